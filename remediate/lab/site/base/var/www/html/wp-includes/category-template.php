<?php
/**
 * WordPress-like lab stub for wp-includes/category-template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'category-template.php';
