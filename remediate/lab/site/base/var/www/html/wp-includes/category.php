<?php
/**
 * WordPress-like lab stub for wp-includes/category.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'category.php';
