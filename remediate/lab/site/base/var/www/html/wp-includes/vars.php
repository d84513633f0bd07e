<?php
/**
 * WordPress-like lab stub for wp-includes/vars.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'vars.php';
