<?php
/**
 * WordPress-like lab stub for wp-includes/class-walker-category-dropdown.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-walker-category-dropdown.php';
