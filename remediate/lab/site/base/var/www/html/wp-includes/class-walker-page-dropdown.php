<?php
/**
 * WordPress-like lab stub for wp-includes/class-walker-page-dropdown.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-walker-page-dropdown.php';
