<?php
/**
 * WordPress-like lab stub for wp-includes/class-walker-category.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-walker-category.php';
