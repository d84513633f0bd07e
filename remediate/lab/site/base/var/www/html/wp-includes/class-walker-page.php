<?php
/**
 * WordPress-like lab stub for wp-includes/class-walker-page.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-walker-page.php';
